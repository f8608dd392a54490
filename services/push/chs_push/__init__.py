"""The push service (精准推送): the profiles' processor (faust), segment matching and preview."""
