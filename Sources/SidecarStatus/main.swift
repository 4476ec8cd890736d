import SidecarCLI

ContractMain.run(SidecarStatusCommand.self)
