import SidecarCLI

await ExitCodeContract.runAsync(SidecarInjectCommand.self)
