enum MaviServerModule {}
