extension APIKey {
    /// `text` with every occurrence of the key replaced, for text gathered from elsewhere (log
    /// lines kept for `mavifs status`) that must never show it.
    public func scrub(_ text: String) -> String {
        Redactor(key: self).scrub(text)
    }
}
