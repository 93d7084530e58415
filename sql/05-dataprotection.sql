-- The broker's own table: the ASP.NET Core Data Protection key ring that encrypts credentials kept in grain state
-- (cluster admin passwords, binding credentials). Shared by every silo; keys are XML documents, never deleted
-- (expired keys still decrypt old values). Idempotent.
CREATE TABLE IF NOT EXISTS ondemand_dataprotection_keys
(
    friendly_name varchar(200) NOT NULL PRIMARY KEY,
    xml text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
