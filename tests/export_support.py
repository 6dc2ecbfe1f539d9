"""The clinic-wide exports run as jobs (reports.jobs): what a test does to get one's file, as the
clinician would (ask for it, a worker runs it, download it)."""

from django.urls import reverse

from reports import jobs
from reports.models import ExportJob


def run_export(client, url, query=None):
    """Ask for the export at `url` with these filters, run its job as a worker would, and
    return the download's response."""
    asked = client.post(url, query or {})
    assert asked.status_code == 302, asked.content
    job = ExportJob.objects.latest("pk")
    assert asked["Location"] == reverse("reports:export_job", args=[job.pk])
    jobs.run(job.pk, job.attempt)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    return client.get(reverse("reports:export_download", args=[job.pk]))
