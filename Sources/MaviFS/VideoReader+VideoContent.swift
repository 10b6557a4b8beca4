import MaviLibrary

/// The block cache with its shared download streams is where mounted files read from.
extension VideoReader: VideoContent {}
