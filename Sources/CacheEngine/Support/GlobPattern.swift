/// Glob-style matching as Redis's KEYS, SCAN MATCH and PSUBSCRIBE use it (util.c,
/// stringmatchlen): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and `\` to escape.
public enum GlobPattern {
    public static func matches(_ pattern: UnsafeRawBufferPointer, _ string: UnsafeRawBufferPointer, ignoreCase: Bool = false) -> Bool {
        var skipLongerMatches = false
        return match(pattern[...], string[...], ignoreCase: ignoreCase, skipLongerMatches: &skipLongerMatches, depth: 0)
    }

    private static func lower(_ byte: UInt8, _ ignoreCase: Bool) -> UInt8 {
        ignoreCase && byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    /// `skipLongerMatches` stops the exponential blow-up of patterns like `*a*a*a*b`: once a
    /// star's tail failed to match at every position, no later star can do better.
    private static func match(
        _ pattern: Slice<UnsafeRawBufferPointer>, _ string: Slice<UnsafeRawBufferPointer>,
        ignoreCase: Bool, skipLongerMatches: inout Bool, depth: Int
    ) -> Bool {
        guard depth < 1000 else { return false }
        var p = pattern.startIndex
        var s = string.startIndex
        let pEnd = pattern.endIndex
        let sEnd = string.endIndex
        while p < pEnd && s < sEnd {
            switch pattern[p] {
            case UInt8(ascii: "*"):
                while p + 1 < pEnd && pattern[p + 1] == UInt8(ascii: "*") { p += 1 }
                if p + 1 == pEnd { return true }
                var start = s
                while start < sEnd {
                    if match(pattern[(p + 1)...], string[start...], ignoreCase: ignoreCase, skipLongerMatches: &skipLongerMatches, depth: depth + 1) {
                        return true
                    }
                    if skipLongerMatches { return false }
                    start += 1
                }
                skipLongerMatches = true
                return false
            case UInt8(ascii: "?"):
                s += 1
            case UInt8(ascii: "["):
                p += 1
                let negate = p < pEnd && pattern[p] == UInt8(ascii: "^")
                if negate { p += 1 }
                var matched = false
                while p < pEnd {
                    if pattern[p] == UInt8(ascii: "\\") && p + 2 < pEnd {
                        p += 1
                        if pattern[p] == string[s] { matched = true }
                    } else if pattern[p] == UInt8(ascii: "]") {
                        break
                    } else if p + 2 < pEnd && pattern[p + 1] == UInt8(ascii: "-") {
                        var low = lower(pattern[p], ignoreCase)
                        var high = lower(pattern[p + 2], ignoreCase)
                        if low > high { swap(&low, &high) }
                        let c = lower(string[s], ignoreCase)
                        if c >= low && c <= high { matched = true }
                        p += 2
                    } else if lower(pattern[p], ignoreCase) == lower(string[s], ignoreCase) {
                        matched = true
                    }
                    p += 1
                }
                if p == pEnd { p -= 1 }  // unterminated class: treat the end as its close
                if negate { matched.toggle() }
                if !matched { return false }
                s += 1
            case UInt8(ascii: "\\") where p + 1 < pEnd:
                p += 1
                if lower(pattern[p], ignoreCase) != lower(string[s], ignoreCase) { return false }
                s += 1
            default:
                if lower(pattern[p], ignoreCase) != lower(string[s], ignoreCase) { return false }
                s += 1
            }
            p += 1
        }
        while p < pEnd && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pEnd && s == sEnd
    }
}
