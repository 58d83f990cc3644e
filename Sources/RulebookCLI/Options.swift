import ArgumentParser

/// Output format shared by every command that prints structured results.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// When to colour diagnostics.
enum ColourChoice: String, ExpressibleByArgument, CaseIterable {
    case auto
    case always
    case never
}

extension ColourChoice {
    /// Whether to colour text written to standard error.
    var colourErrors: Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto: return Terminal.standardError.isTerminal
        }
    }
}

/// Options every structured command takes.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text for people, json for tools.")
    var format: OutputFormat = .text

    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    /// Whether to colour text written to standard error.
    var colourErrors: Bool { color.colourErrors }
}

/// Where policies are found when a command names one by id.
struct PolicyOptions: ParsableArguments {
    @Option(name: .customLong("policies"), help: ArgumentHelp(Installation.policiesHelp, valueName: "dir"),
            completion: .directory)
    var givenPolicies: String?

    /// --policies, else ./Policies, else the installed policies (see ``Installation``).
    var policies: String { Installation.policies(givenPolicies) }
}
