"""``python -m chs_enrollment api|relay``."""
from chs_events.runtime import main, relay_worker

from chs_enrollment.api import create_app
from chs_enrollment.settings import EnrollmentSettings

if __name__ == "__main__":
    main(EnrollmentSettings(), app=create_app, workers={"relay": relay_worker("chs_enrollment")})
