import AGRCommands

AGRCommand.main()
