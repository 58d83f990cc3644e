import RulebookCLI

// The executable is this line: everything it does lives in RulebookCLI, a library, so
// that the fuzzing harness can compare the command-line fast path with ArgumentParser.
CommandLineMain.main()
