from expediter.web.roles import Role, needs, role_needed


def test_roles_are_ordered_and_a_route_says_the_least_role_it_needs() -> None:
    @needs(Role.OPERATOR)
    async def replay() -> None: ...

    async def page() -> None: ...

    assert role_needed(replay) is Role.OPERATOR and role_needed(page) is Role.VIEWER
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)


def test_a_route_says_who_calls_it_and_a_person_is_the_default() -> None:
    from expediter.web.roles import Caller, caller_of, open_to

    @open_to(Caller.MACHINE)
    async def orders() -> None: ...

    async def page() -> None: ...

    assert caller_of(orders) is Caller.MACHINE and caller_of(page) is Caller.PERSON
