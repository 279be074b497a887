import CalendarModel
import Filters
import Foundation
import Testing
import YAMLConfig

func load(_ yaml: String, name: String = "f") -> Result<Filter, ConfigProblems> {
    FilterLoader.load(name: name, text: yaml, file: "\(name).yaml")
}

func problems(_ yaml: String) -> [String] {
    switch load(yaml) {
    case .success: return []
    case .failure(let p): return p.problems.map(\.description)
    }
}

@Suite struct FilterLoaderTests {
    @Test func loadsEveryKindOfRule() throws {
        let f = try load(
            """
            stage: output
            description: all of them
            rules:
              - remove-component: VALARM
              - remove-property: [DTSTAMP, x-ms-*]
              - remove-parameter: PARTSTAT
                from: ATTENDEE
              - rename-property: LOCATION
                to: X-ORIGINAL-LOCATION
              - set: CLASS
                value: PUBLIC
              - add: CATEGORIES
                value: Athletics
                parameters: { LANGUAGE: en }
              - default: TRANSP
                value: TRANSPARENT
              - rewrite: SUMMARY
                pattern: '^(\\w+) vs (\\w+)$'
                replacement: '$2 hosted by $1'
              - map: CATEGORIES
                values: { Fussball: Football }
              - drop: true
                when: { component: VEVENT, has: RRULE, missing: LOCATION, property: STATUS, matches: CANCELLED, ended-days-ago: 30 }
            skip:
              components: [VALARM]
              properties: [SEQUENCE]
              parameters: [X-*]
            """
        ).get()
        #expect(f.stage == .output)
        #expect(f.rules.map(\.number) == Array(1...10))
        #expect(f.rules.map(\.line) == [4, 5, 6, 8, 10, 12, 15, 17, 20, 22])
        #expect(
            f.rules.map(\.action.summary) == [
                "remove component VALARM", "remove property DTSTAMP, X-MS-*", "remove parameter PARTSTAT from ATTENDEE",
                "rename LOCATION to X-ORIGINAL-LOCATION", "set CLASS", "add CATEGORIES", "default TRANSP",
                "rewrite SUMMARY",
                "map CATEGORIES", "drop item",
            ])
        #expect(f.rules[9].condition?.endedDaysAgo == 30)
        #expect(f.skip.skipsComponent("VALARM") && f.skip.skipsProperty("SEQUENCE") && f.skip.skipsParameter("X-FOO"))
    }

    @Test func reportsEveryProblemWithFileLineAndWhatWasExpected() {
        let p = problems(
            """
            stage: outptu
            rulez: []
            rules:
              - remove-property: CATEGORY
              - rewrite: SUMMARY
                pattern: '([unclosed'
                replacement: x
              - add: DTSTART
                value: next tuesday
              - set: CLASS
                value: PUBLIC
                colour: red
              - drop: true
              - remove-parameter: PARTSTATUS
              - rename-property: LOCATION
              - {}
            skip:
              properties: [DTSTAMP]
            """)
        #expect(
            p == [
                "f.yaml:1: stage should be input or output, not \"outptu\"",
                "f.yaml:4: unknown property \"CATEGORY\" in rule 1; did you mean CATEGORIES?; vendor names start with X-",
                #"f.yaml:6: bad regular expression "([unclosed": expected ']'"#,
                "f.yaml:9: rule 3: \"next tuesday\" is not a valid DATE-TIME for DTSTART",
                "f.yaml:12: unknown key \"colour\" in rule 4; expected one of: set, value, parameters, when",
                "f.yaml:13: rule 5 drops every item: give it a when condition",
                "f.yaml:14: unknown parameter \"PARTSTATUS\" in rule 6; did you mean PARTSTAT?; vendor names start with X-",
                "f.yaml:15: rule 7: rename-property needs to, a property name",
                "f.yaml:16: rule 8 has no action; give exactly one of: remove-component, remove-property, remove-parameter, rename-property, set, add, default, rewrite, map, drop",
                "f.yaml:17: skip belongs in an output filter: it tells the comparison what to ignore for a target",
                "f.yaml:2: unknown key \"rulez\" in the file; did you mean rules?; expected one of: stage, description, rules, skip",
            ])
    }

    @Test func syntaxErrorsNameTheLine() {
        let p = problems("stage: input\nrules:\n  - remove-property: [A\n  - x: y\n")
        // The list opened on line 3 is still open where line 4 begins: libyaml stops there.
        #expect(p == ["f.yaml:4: not valid YAML: did not find expected ',' or ']'"])
        // Two lines further down, two lines later.
        #expect(
            problems(
                "stage: input\ndescription: x\nrules:\n  - remove-component: VALARM\n  - remove-property: [A\n  - x: y\n"
            )
                == ["f.yaml:6: not valid YAML: did not find expected ',' or ']'"])
    }

    @Test func aPipelineIsKnownByItsFiltersTextsUnlessTimeDecides() throws {
        func load(_ text: String, _ name: String = "f") throws -> Filter {
            try FilterLoader.load(name: name, text: text, file: "\(name).yaml").get()
        }
        let strip = "stage: input\nrules:\n  - remove-component: VALARM\n"
        let a = try #require(FilterPipeline([try load(strip)]).fingerprint)
        #expect(FilterPipeline([try load(strip)]).fingerprint == a, "the same text, the same fingerprint")
        #expect(FilterPipeline([try load("# a comment\n" + strip)]).fingerprint != a)
        #expect(FilterPipeline([try load(strip, "g")]).fingerprint != a)
        #expect(
            FilterPipeline([try load(strip), try load(strip, "g")]).fingerprint
                != FilterPipeline([try load(strip, "g"), try load(strip)]).fingerprint)
        #expect(FilterPipeline([]).fingerprint != nil)
        // A rule that depends on the time, or a filter built in code, has none.
        let past = "stage: input\nrules:\n  - drop: true\n    when: { ended-days-ago: 30 }\n"
        #expect(FilterPipeline([try load(strip), try load(past, "past")]).fingerprint == nil)
        #expect(FilterPipeline([Filter(name: "code", stage: .input, rules: [])]).fingerprint == nil)
    }

    @Test func theExampleFiltersLoadCleanly() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Filters")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
            .sorted()
        #expect(names == ["public-events.yaml", "strip-alarms.yaml", "strip-scheduling.yaml", "volatile-fields.yaml"])
        for n in names {
            let text = try String(contentsOf: dir.appendingPathComponent(n), encoding: .utf8)
            if case .failure(let p) = FilterLoader.load(name: String(n.dropLast(5)), text: text, file: n) {
                Issue.record("\(p)")
            }
        }
    }
}
