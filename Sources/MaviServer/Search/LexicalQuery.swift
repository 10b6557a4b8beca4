import Foundation

/// Text matching for `search` on this server: lexical, by words, over names, tags and the text of
/// transcripts and captions. (The live service matches by meaning, visual content included; a
/// local stand-in can only match the words it has.)
struct LexicalQuery: Sendable, Equatable {
    /// The query's distinct words, folded.
    let terms: [String]
    /// The query's words in order, folded, as one space-separated phrase.
    let phrase: String

    /// Nil when the text has no word at all (only punctuation or spaces).
    init?(_ text: String) {
        let words = Self.words(text)
        guard !words.isEmpty else { return nil }
        var seen = Set<String>()
        terms = words.filter { seen.insert($0).inserted }
        phrase = words.joined(separator: " ")
    }

    /// 0…1: the share of the query's words found as words of `text`, times 0.8 unless they also
    /// appear there together, in order. 0 when no word matches.
    func score(_ text: String) -> Double {
        let words = Self.words(text)
        let present = Set(words)
        let matched = terms.filter(present.contains).count
        guard matched > 0 else { return 0 }
        let coverage = Double(matched) / Double(terms.count)
        let together = (" " + words.joined(separator: " ") + " ").contains(" " + phrase + " ")
        return ((coverage * (together ? 1 : 0.8)) * 1000).rounded() / 1000
    }

    /// Lower-cased without diacritics, so "Café" matches "cafe".
    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
    }

    /// The folded words of `text`: runs of letters and digits.
    static func words(_ text: String) -> [String] {
        fold(text).split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }
}
