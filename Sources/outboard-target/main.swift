import ArgumentParser

/// `outboard-target`: the reference CalWS-SOAP target server. Its `serve` command arrives with the
/// protocol module (issue "CalWS-SOAP protocol and the reference target server"); until then it
/// only describes itself.
struct OutboardTarget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outboard-target",
        abstract: "The reference CalWS-SOAP target server of Outboard (not yet serving: see the README's status section)."
    )

    func run() throws {
        print(OutboardTarget.helpMessage())
    }
}

OutboardTarget.main()
