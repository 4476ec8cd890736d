import SidecarCLI

await ExitCodeContract.runAsync(SidecarProxyCommand.self)
