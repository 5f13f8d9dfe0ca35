import Testing

@testable import Cluster

@Suite("hash slots")
struct HashSlotTests {
    func slot(_ key: String) -> Int {
        HashSlot.slot(for: Array(key.utf8))
    }

    @Test("CRC16-XMODEM check value from the cluster spec")
    func checkValue() {
        Array("123456789".utf8).withUnsafeBytes { #expect(CRC16.checksum($0) == 0x31C3) }
        #expect(slot("123456789") == 0x31C3 % 16384)
    }

    @Test("hash tags as the cluster spec defines them")
    func hashTags() {
        #expect(slot("{user1000}.following") == slot("{user1000}.followers"))
        #expect(slot("{user1000}.following") == slot("user1000"))
        #expect(slot("foo{}{bar}") != slot("bar"), "an empty first tag means the whole key is hashed")
        #expect(slot("foo{{bar}}zap") == slot("{bar"), "the tag runs from the first { to the first } after it")
        #expect(slot("foo{bar}{zap}") == slot("bar"), "only the first tag counts")
        #expect(slot("no-close{brace") != slot("brace"))
    }

    @Test("every slot is reachable and in range")
    func range() {
        var seen = Set<Int>()
        for index in 0..<200_000 {
            let value = slot("key:\(index)")
            #expect((0..<HashSlot.count).contains(value))
            seen.insert(value)
        }
        #expect(seen.count == HashSlot.count)
    }
}
