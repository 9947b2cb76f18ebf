enum TockCoreModule {}
