import AGRCommands
import Foundation

// Line-buffered output, so progress shows up promptly when piped into a log file.
setvbuf(stdout, nil, _IOLBF, 0)
GridParent.watchIfAsked()
AGRCommand.main()
