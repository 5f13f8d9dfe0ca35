import Foundation
import FuzzTargets
import Testing

/// Replays the committed seed corpus and every input that once crashed a fuzz target: a fixed
/// crash stays fixed. (The fuzzing itself runs in `fuzz/run`, bounded in time.)
@Suite("fuzz corpus and regressions")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz")

    static func inputs(_ target: String) -> [Data] {
        ["corpus", "regressions"].flatMap { folder -> [Data] in
            let directory = root.appendingPathComponent(folder).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { FileManager.default.contents(atPath: directory.appendingPathComponent($0).path) }
        }
    }

    @Test("the RESP parser target takes every saved input")
    func resp() {
        let inputs = Self.inputs("resp")
        #expect(inputs.count >= 6, "the seed corpus is there")
        for input in inputs { input.withUnsafeBytes { FuzzTargets.respParser($0) } }
    }

    @Test("the engine target takes every saved input")
    func engine() {
        let inputs = Self.inputs("engine")
        #expect(inputs.count >= 6, "the seed corpus is there")
        for input in inputs { input.withUnsafeBytes { FuzzTargets.engineCommands($0) } }
    }
}
