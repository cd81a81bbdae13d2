"""The job queue port and its adapters (in-process threads now; Redis for scale-out)."""

from api.jobs.local import ThreadQueue
from api.jobs.port import EpisodeJob, JobQueue

__all__ = ["EpisodeJob", "JobQueue", "ThreadQueue"]
