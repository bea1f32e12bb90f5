"""The stream loader (`loader`) and the modules only it uses: event lines typed and
validated in the executors (`event_conform`, `event_io`), then ranked and classified
against silver (`events`) before the event-ordered MERGE (`event_io`)."""
