"""convex-test's argumentsValidation.ts (without the component mutation: components are issue 18)."""

from convex_py import action, mutation, query, v


@query(args={"a": v.number()})
def queryWithArgs(ctx, args):
    return None


@query
def queryWithoutArgs(ctx, args):
    return None


@mutation(args={"a": v.number()})
def mutationWithArgs(ctx, args):
    return None


@mutation
def mutationWithoutArgs(ctx, args):
    return None


@action(args={"a": v.number()})
def actionWithArgs(ctx, args):
    return None


@action
def actionWithoutArgs(ctx, args):
    return None


@query(args={"a": v.optional(v.number())})
def queryWithOptionalArgs(ctx, args):
    return "ok"


@query(args={"a": v.union(v.number(), v.string())})
def queryWithUnionArg(ctx, args):
    return "ok"
