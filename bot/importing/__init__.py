"""CSV importers: native and Fivetran ad_reporting exports, all or nothing."""
