import Testing

@testable import CacheEngine

@Suite("Command table")
struct CommandTableTests {
    let table = CommandTable.shared

    func lookup(_ name: String) -> CommandSpec? {
        var name = name
        return name.withUTF8 { table.lookup(UnsafeRawBufferPointer($0)) }
    }

    @Test("every command is found by its name in any case, and is itself")
    func everyName() {
        #expect(table.specs.count > 100)
        for spec in table.specs {
            #expect(lookup(spec.name) === spec, "\(spec.name)")
            #expect(lookup(spec.name.uppercased()) === spec, "\(spec.name) upper case")
        }
    }

    @Test("names that are not commands are not found")
    func unknownNames() {
        for name in ["", "ge", "gett", "getx", "set ", String(repeating: "a", count: 25), "georadiusbymember_rox", "\u{0}get"] {
            #expect(lookup(name) == nil, "\(name)")
        }
    }
}
