/// A mistake in the settings (the file, or a value that only makes sense once the file is read):
/// reported as it is, without the usage text that argument mistakes get.
struct SettingsError: Error, CustomStringConvertible {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
