enum MaviLibraryModule {}
