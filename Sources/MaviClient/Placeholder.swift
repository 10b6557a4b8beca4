enum MaviClientModule {}
