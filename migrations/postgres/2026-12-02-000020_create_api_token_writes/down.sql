DROP INDEX api_token_writes_token;
DROP TABLE api_token_writes;
