import ArgumentParser

/// A subcommand whose feature has not landed yet: it says so and exits 2.
protocol NotBuiltCommand: ParsableCommand {}

extension NotBuiltCommand {
    func run() throws {
        throw Trouble("'\(Self._commandName)' is not built yet", hint: "see the open issues for its progress")
    }
}

struct Show: NotBuiltCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a policy as the document's procedure (Markdown).")
    @Argument(help: "Policy id or path.") var policy: String
    @OptionGroup var locations: PolicyOptions
}

struct Assess: NotBuiltCommand {
    static let configuration = CommandConfiguration(
        abstract: "Derive a case's values (score, category...) with the explanation and open questions.")
    @Argument(help: "Policy id or path.") var policy: String
    @Argument(help: "Case file (YAML or JSON).") var `case`: String
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions
}

struct Next: NotBuiltCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the duties due, overdue or undecided, by role, with deadlines and clauses.")
    @Argument(help: "Policy id or path.") var policy: String
    @Argument(help: "Case file (YAML or JSON).") var `case`: String
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions
}

struct Audit: NotBuiltCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a recorded trail against the policy and list every finding.")
    @Argument(help: "Policy id or path.") var policy: String
    @Argument(help: "Case file (YAML or JSON).") var `case`: String
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions
}
