from django.utils.functional import SimpleLazyObject

from .roles import role_of


def clinic_role(request):
    """`user_role` in every template, worked out only if a template asks for it."""
    return {"user_role": SimpleLazyObject(lambda: role_of(request.user))}
