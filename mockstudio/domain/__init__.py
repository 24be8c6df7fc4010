"""The domain: Twilio Studio's resources (flows, revisions, test users, executions, steps,
contexts), mockstudio's inbound channels and control operations, and the change feed that
publishes every change. Plain Python: nothing here knows HTTP, SQLite or the engine's
internals (it drives the engine through `mockstudio.engine.runner.Engine`'s public methods)."""
