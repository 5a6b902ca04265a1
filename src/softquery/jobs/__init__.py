"""Job executors: the local job slots and the RQ queue and worker. They carry run ids;
supervising a run is a use case of ``softquery.services``, handed to them as ``RunWork``."""
