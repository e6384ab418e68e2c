"""Running an unreliable action with retries (convex-helpers' convex/retriesExample.ts)."""

import random

from convex_py import internal, internal_action, mutation, v

from .lib.retries import make_action_retrier

# Export the helpers, with the name of the retry function.
run_with_retries, retry = make_action_retrier(
    "retries_example:retry",
    {"retryBackoff": 1000, "log": print},  # options for demo purposes.
)


# This is a sample action will fail randomly based on the `failureRate`
# argument. It's safe to retry since it doesn't have any side effects.
@internal_action(args={"failureRate": v.number()})  # 0.0 - 1.0
async def unreliable_action(_ctx, args):
    print("Running an action with failure rate " + str(args["failureRate"]))
    if random.random() < args["failureRate"]:
        raise Exception("action failed.")
    print("action succeded.")


# This calls the `unreliable_action` function with retries.
@mutation(args={})
async def run_unreliable_action_with_retries(ctx, _args):
    await run_with_retries(ctx, internal.retries_example.unreliable_action, {"failureRate": 0.8})
    # If an error is thrown in a mutation, the transaction will be rolled back
    # and the action will not be scheduled to run.


# Calling an action with retries from an action works too.
@internal_action(args={})
async def run_from_an_action(ctx):
    email = {"to": "user@example.com", "subject": "Hello", "body": "World"}
    await run_with_retries(
        ctx,
        internal.retries_example.send_welcome_email,
        {"email": email},
        {
            # After 5 failures, give up.
            "maxFailures": 5,
            # Wait 10 seconds before retrying the first time.
            "retryBackoff": 10_000,
            # This is the multiplier for the next wait time.
            "base": 10,
        },
    )


# This is a pretend email sending function.
@internal_action(args={"email": v.object({"to": v.string(), "subject": v.string(), "body": v.string()})})
async def send_welcome_email():
    # If the email provider is down, it could fail.
    pass
