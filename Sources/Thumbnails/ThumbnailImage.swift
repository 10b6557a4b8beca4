import CGdkPixbuf
import Glibc

/// Cover frames made into thumbnails with gdk-pixbuf: decoded, scaled down to fit a size (never
/// up), given an alpha channel (the standard's readers expect 8-bit RGBA) and saved as PNG with
/// the `Thumb::` keys.
public enum ThumbnailImage {
    /// Writes the thumbnail of `image` (a JPEG or PNG) fitting `size` to `path`, replacing it. The
    /// file is written under a temporary name beside `path` with mode 0600 and renamed, so a
    /// reader never sees half a thumbnail.
    public static func write(from image: String, size: ThumbnailSize, facts: ThumbnailFacts, to path: String) throws {
        let pixbuf = try scaledRGBA(image, fitting: size.pixels)
        defer { release(pixbuf) }
        let temporary = path + ".\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp"
        // Made 0600 first: gdk-pixbuf opens it again for writing and keeps the mode.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ThumbnailError.cannotWrite(temporary, String(cString: strerror(errno))) }
        close(fd)
        do {
            try save(pixbuf, to: temporary, text: facts.textKeys)
            guard rename(temporary, path) == 0 else { throw ThumbnailError.cannotWrite(path, String(cString: strerror(errno))) }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// The thumbnail of `image` fitting `size`, as the bytes of a PNG file: what a shared
    /// repository (`.sh_thumbnails`) serves without writing anything.
    public static func pngBytes(from image: String, size: ThumbnailSize, facts: ThumbnailFacts) throws -> [UInt8] {
        let pixbuf = try scaledRGBA(image, fitting: size.pixels)
        defer { release(pixbuf) }
        let (keys, values) = cStrings(facts.textKeys)
        defer { (keys + values).forEach { free($0) } }
        var buffer: UnsafeMutablePointer<gchar>?
        var length: gsize = 0
        var error: UnsafeMutablePointer<GError>?
        let saved = keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                gdk_pixbuf_save_to_bufferv(pixbuf, &buffer, &length, "png", UnsafeMutablePointer(mutating: k.baseAddress),
                                           UnsafeMutablePointer(mutating: v.baseAddress), &error)
            }
        }
        guard saved != 0, let buffer else {
            defer { g_error_free(error) }
            throw ThumbnailError.cannotWrite("a PNG in memory", GLibMessage.of(error))
        }
        defer { g_free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
    }

    /// The `tEXt` keys of a PNG thumbnail (only those of the standard), or `nil` when it cannot be
    /// read.
    public static func textKeys(of path: String) -> [String: String]? {
        var error: UnsafeMutablePointer<GError>?
        guard let pixbuf = gdk_pixbuf_new_from_file(path, &error) else {
            g_error_free(error)
            return nil
        }
        defer { release(pixbuf) }
        var keys: [String: String] = [:]
        for key in ["Thumb::URI", "Thumb::MTime", "Thumb::Size", "Thumb::Mimetype", "Thumb::Movie::Length"] {
            if let value = gdk_pixbuf_get_option(pixbuf, "tEXt::" + key) { keys[key] = String(cString: value) }
        }
        return keys
    }

    /// The image decoded at a size whose longer side is at most `pixels`, with alpha.
    private static func scaledRGBA(_ image: String, fitting pixels: Int) throws -> OpaquePointer {
        var width: Int32 = 0
        var height: Int32 = 0
        guard gdk_pixbuf_get_file_info(image, &width, &height) != nil, width > 0, height > 0 else {
            throw ThumbnailError.unreadableImage(image, "not an image gdk-pixbuf knows")
        }
        var error: UnsafeMutablePointer<GError>?
        let decoded: OpaquePointer?
        if max(width, height) > Int32(pixels) {
            // Decoded straight at the smaller size: the JPEG loader then skips most of the work.
            decoded = gdk_pixbuf_new_from_file_at_scale(image, Int32(pixels), Int32(pixels), 1, &error)
        } else {
            decoded = gdk_pixbuf_new_from_file(image, &error)
        }
        guard let decoded else {
            defer { g_error_free(error) }
            throw ThumbnailError.unreadableImage(image, GLibMessage.of(error))
        }
        defer { release(decoded) }
        guard let rgba = gdk_pixbuf_add_alpha(decoded, 0, 0, 0, 0) else {
            throw ThumbnailError.unreadableImage(image, "out of memory")
        }
        return rgba
    }

    private static func save(_ pixbuf: OpaquePointer, to path: String, text: [(String, String)]) throws {
        let (keys, values) = cStrings(text)
        defer { (keys + values).forEach { free($0) } }
        var error: UnsafeMutablePointer<GError>?
        let saved = keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                gdk_pixbuf_savev(pixbuf, path, "png", UnsafeMutablePointer(mutating: k.baseAddress),
                                 UnsafeMutablePointer(mutating: v.baseAddress), &error)
            }
        }
        guard saved != 0 else {
            defer { g_error_free(error) }
            throw ThumbnailError.cannotWrite(path, GLibMessage.of(error))
        }
    }

    /// gdk-pixbuf's option lists for `text`: `tEXt::` keys and their values, each ending in NULL.
    /// The caller frees every string.
    private static func cStrings(_ text: [(String, String)]) -> ([UnsafeMutablePointer<CChar>?], [UnsafeMutablePointer<CChar>?]) {
        (text.map { strdup("tEXt::" + $0.0) } + [nil], text.map { strdup($0.1) } + [nil])
    }

    /// Drops a reference to a pixbuf (a GObject, which Swift sees as an opaque pointer).
    private static func release(_ pixbuf: OpaquePointer) {
        g_object_unref(UnsafeMutableRawPointer(pixbuf))
    }
}
