"""Re-encrypt every authenticator seed under the current CLINIC_OTP_KEY (README, "Keys and
rotation"): after it has run on one app server, the old key can leave CLINIC_OTP_KEY_FALLBACKS."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import AuthenticatorDevice
from accounts.otp_keys import SeedUnreadable, reencrypt_seed


class Command(BaseCommand):
    help = "Re-encrypt every authenticator seed under the current CLINIC_OTP_KEY."

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for device in AuthenticatorDevice.objects.select_for_update().only("encrypted_key"):
                try:
                    device.encrypted_key = reencrypt_seed(device.encrypted_key)
                except SeedUnreadable as error:
                    raise CommandError(
                        f"Authenticator #{device.pk}: {error} Nothing was changed; put the key it "
                        "was encrypted under in CLINIC_OTP_KEY_FALLBACKS and run this again."
                    ) from None
                device.save(update_fields=["encrypted_key"])
                count += 1
        self.stdout.write(f"{count} authenticator seeds now encrypted under CLINIC_OTP_KEY.")
