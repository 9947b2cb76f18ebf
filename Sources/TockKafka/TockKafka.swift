// TockKafka: the only module that imports CRdKafka.
