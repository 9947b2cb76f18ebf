// TockRedis: the only module that imports CHiredis.
