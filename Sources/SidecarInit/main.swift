import SidecarCLI

ExitCodeContract.run(SidecarInitCommand.self)
