import FUSE
@testable import MaviFS
import MaviLibrary
import Testing

@Suite("What listings know of subtitle sidecars")
struct SidecarFactsTests {
    @Test("speech shows with size 0 until fetched, with its size once fetched, and not once known absent; captions only once fetched")
    func listedSizes() {
        var facts = SidecarFacts()
        #expect(facts.listedSize(4, .speech) == 0)
        #expect(facts.listedSize(5, .captions) == nil)
        facts.learned(.present(120), .speech, inode: 4)
        facts.learned(.present(80), .captions, inode: 5)
        facts.learned(.absent, .speech, inode: 9)
        facts.learned(.absent, .captions, inode: 10)
        #expect(facts.listedSize(4, .speech) == 120)
        #expect(facts.listedSize(5, .captions) == 80)
        #expect(facts.listedSize(9, .speech) == nil)
        #expect(facts.listedSize(10, .captions) == nil)
        #expect(facts.listedSize(14, .speech) == 0, "another video's speech is not known yet")
    }
}
