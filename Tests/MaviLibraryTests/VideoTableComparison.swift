import Foundation
import MaviAPI
import MaviLibrary

// Tests state what a listing should hold as arrays of videos.

func == (table: VideoTable, videos: [Video]) -> Bool { Array(table) == videos }
func == (table: VideoTable?, videos: [Video]) -> Bool { table.map { Array($0) == videos } ?? false }

extension ListingStore {
    func save(_ videos: [Video], at date: Date = Date()) throws {
        try save(VideoTable(videos), at: date)
    }
}

extension Listing {
    /// The numbers of the videos the listing shows, in order.
    var shownNumbers: [String] {
        videos.indices.filter(isShown).map { videos.videoNo(at: $0) }
    }
}
