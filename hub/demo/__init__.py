"""The demo, apart from the hub proper: sample reports (``seed``) and the live sandbox
federation (``sandbox``). Nothing in the hub's serving path imports it."""
