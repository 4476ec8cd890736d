import SidecarCLI

ContractMain.run(SidecarInitCommand.self)
