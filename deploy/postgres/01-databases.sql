-- One database per service (each service owns its tables; none reads another's database).
-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d).
CREATE DATABASE identity;
CREATE DATABASE contract;
CREATE DATABASE package;
CREATE DATABASE merge;
