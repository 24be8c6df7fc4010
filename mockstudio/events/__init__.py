"""Studio Events as Twilio's Event Streams delivers them: the Events v1 resources an app
subscribes with (sinks, subscriptions, subscribed events, event types and schemas;
streams.py), the CloudEvents made from the change feed (studio_events.py), and their
delivery to webhook sinks and in-process collectors (delivery.py).

Plain Python, no HTTP framework: the routes are in mockstudio.api."""
