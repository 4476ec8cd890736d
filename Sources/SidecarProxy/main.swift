import SidecarCLI

await ContractMain.runAsync(SidecarProxyCommand.self)
