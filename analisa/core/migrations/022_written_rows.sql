-- Where the rows an incremental build wrote stand (their ctids), recorded by the model's
-- post-hook when they are few (macros/test_scope.sql): the model's data tests then fetch those
-- rows by their position instead of reading the whole table to find the rows the build's
-- transaction wrote. Null: not recorded (a build written whole, or one that wrote many rows);
-- the tests read the table for the transaction's rows, as before.
alter table ops.bronze_watermarks add column if not exists written_rows tid[];
