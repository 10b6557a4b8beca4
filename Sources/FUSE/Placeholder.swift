import CFuse3
