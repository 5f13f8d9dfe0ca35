import NIOCore
import RESP
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

    /// The key positions `forEachKeyPosition` reports for `words` (a command and its arguments).
    func keyPositions(_ words: [String]) -> [Int] {
        var request = ByteBuffer()
        request.writeString("*\(words.count)\r\n")
        for word in words { request.writeString("$\(word.utf8.count)\r\n\(word)\r\n") }
        var parser = RESPCommandParser()
        var arguments = CommandArguments()
        _ = try? parser.parse(request, into: &arguments)
        var positions: [Int] = []
        request.withUnsafeReadableBytes { frame in
            arguments.withArgv(frame: frame) { argv in
                lookup(words[0])!.forEachKeyPosition(in: argv) { positions.append($0) }
            }
        }
        return positions
    }

    @Test("key positions: fixed ranges, steps, and the keys a numkeys argument counts")
    func keyPositionsOfEveryShape() {
        #expect(keyPositions(["GET", "k"]) == [1])
        #expect(keyPositions(["MSET", "a", "1", "b", "2"]) == [1, 3])
        #expect(keyPositions(["DEL", "a", "b", "c"]) == [1, 2, 3])
        #expect(keyPositions(["PING"]) == [])
        #expect(keyPositions(["SINTERCARD", "2", "a", "b", "LIMIT", "1"]) == [2, 3])
        #expect(keyPositions(["ZUNION", "3", "a", "b", "c", "WITHSCORES"]) == [2, 3, 4])
        #expect(keyPositions(["ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]) == [1, 3, 4])
        #expect(keyPositions(["BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "3"]) == [3, 4])
        // A count past the arguments names only those present; one that is no number names
        // none beyond the fixed range (the command answers the error itself).
        #expect(keyPositions(["ZUNIONSTORE", "d", "9", "a"]) == [1, 3])
        #expect(keyPositions(["ZUNION", "x", "a"]) == [2])
        #expect(keyPositions(["ZUNION", "-1", "a"]) == [2])
    }

    @Test("names that are not commands are not found")
    func unknownNames() {
        for name in ["", "ge", "gett", "getx", "set ", String(repeating: "a", count: 25), "georadiusbymember_rox", "\u{0}get"] {
            #expect(lookup(name) == nil, "\(name)")
        }
    }
}
