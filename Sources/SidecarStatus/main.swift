import SidecarCLI

ExitCodeContract.run(SidecarStatusCommand.self)
