enum TockRuntimeModule {}
