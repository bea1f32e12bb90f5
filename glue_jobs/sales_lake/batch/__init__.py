"""The batch loader (`loader`) and the modules only it uses: bronze CSV objects parsed
(`bronze_csv`), typed and validated (`conform`) in the executors (`bronze_reader`),
then de-duplicated and shaped into silver rows (`silver_frames`)."""
