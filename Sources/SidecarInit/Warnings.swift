import SidecarCLI

/// Prints each finding to standard error as a warning: conflicts may be deliberate, so they never fail a command.
func warn(_ findings: [String]) {
    for finding in findings { ExitCodeContract.printError("sidecar-init: warning: \(finding)") }
}
