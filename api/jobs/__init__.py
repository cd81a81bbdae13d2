"""The job queue port and its adapters: in-process threads (`local`), Redis streams (`api.jobs.redis`,
imported on demand: it needs the `scale` extra)."""

from api.jobs.local import ThreadQueue
from api.jobs.port import EpisodeJob, JobQueue

__all__ = ["EpisodeJob", "JobQueue", "ThreadQueue"]
